"""Import tasks: the record, its status machine, its wire document and schemas, and the
task-list query. Standard library only (plus the schema helpers)."""
from __future__ import annotations

import copy
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import timedelta
from enum import StrEnum
from types import MappingProxyType
from typing import Any

from chalicelib.domain.context import RequestContext
from chalicelib.domain.errors import Invalid, InvalidTransition
from chalicelib.domain.image import format_stamp, parse_stamp, wire_time
from chalicelib.domain.query import parse_limit
from chalicelib.domain.schema import collection_schema

# Glance's type for the tasks of its interoperable import.
IMPORT_TASK = "api_image_import"
# Glance's legacy task (`POST /v2/tasks`): an import from a URL into a new image.
LEGACY_IMPORT_TASK = "import"
# Images API 2.17's add-location: hash an http store's data, then activate.
LOCATION_TASK = "location_import"
TASK_TYPES = (LEGACY_IMPORT_TASK, IMPORT_TASK, LOCATION_TASK)


class TaskStatus(StrEnum):
    """Glance's task statuses, with their wire values."""

    PENDING = "pending"
    PROCESSING = "processing"
    SUCCESS = "success"
    FAILURE = "failure"


T = TaskStatus
# Glance's Task._validate_task_status_transition: an import may fail before it starts.
TRANSITIONS: Mapping[TaskStatus, frozenset[TaskStatus]] = MappingProxyType({
    T.PENDING: frozenset({T.PROCESSING, T.FAILURE}),
    T.PROCESSING: frozenset({T.SUCCESS, T.FAILURE}),
    T.SUCCESS: frozenset(),
    T.FAILURE: frozenset(),
})
FINISHED = frozenset({T.SUCCESS, T.FAILURE})


@dataclass(frozen=True, slots=True)
class Task:
    """A task record. Field names are Glance's wire names; `expires_at` is set on finishing."""

    id: str
    type: str
    owner: str
    image_id: str
    created_at: str
    updated_at: str
    status: TaskStatus = T.PENDING
    input: Mapping[str, Any] = field(default_factory=dict)
    result: Mapping[str, Any] | None = None
    message: str = ""
    user_id: str | None = None
    request_id: str | None = None
    expires_at: str | None = None


def new_task_id() -> str:
    """A fresh task id (a UUID, as Glance's schema requires)."""
    return str(uuid.uuid4())


def new_import_task(task_id: str, ctx: RequestContext, image_id: str,
                    import_req: Mapping[str, Any], message: str, now: str,
                    legacy_input: Mapping[str, Any] | None = None) -> Task:
    """A pending `api_image_import` task (or, given the legacy task's input, an `import`
    one); its owner is the caller's project, as in Glance."""
    if legacy_input is not None:
        kind, task_input = LEGACY_IMPORT_TASK, dict(legacy_input)
    else:
        kind, task_input = IMPORT_TASK, {"image_id": image_id, "import_req": dict(import_req)}
    return Task(id=task_id, type=kind, owner=ctx.project_id, image_id=image_id,
                created_at=now, updated_at=now, message=message, input=task_input,
                user_id=ctx.user_id or None, request_id=ctx.request_id or None)


def new_location_task(task_id: str, ctx: RequestContext, image_id: str, url: str,
                      validation_data: Mapping[str, Any], now: str) -> Task:
    """A pending `location_import` task (Images API 2.17), with Glance's input."""
    return Task(id=task_id, type=LOCATION_TASK, owner=ctx.project_id, image_id=image_id,
                created_at=now, updated_at=now,
                message="Waiting for a worker to hash the location's data.",
                input={"image_id": image_id, "loc_url": url,
                       "validation_data": dict(validation_data)},
                user_id=ctx.user_id or None, request_id=ctx.request_id or None)


def transition(task: Task, to: TaskStatus, now: str, ttl_seconds: int,
               **changes: Any) -> Task:
    """Move the task to `to` (with `message`/`result` changes); a finished task expires
    `ttl_seconds` later (Glance's task_time_to_live).

    Raises:
        InvalidTransition: the table does not allow it.
    """
    if to not in TRANSITIONS[task.status]:
        raise InvalidTransition(f"Task status transition from '{task.status}' to '{to}' "
                                "is not allowed.")
    if to in FINISHED:
        changes["expires_at"] = expires_after(now, ttl_seconds)
    return replace(task, status=to, updated_at=now, **changes)


def expires_after(now: str, seconds: int) -> str:
    """`now` (a stored timestamp) plus `seconds`, in the same format."""
    return format_stamp(parse_stamp(now) + timedelta(seconds=seconds))


def is_expired(task: Task, now: str) -> bool:
    """True once a finished task has outlived its TTL (DynamoDB deletes it some time later)."""
    return task.expires_at is not None and task.expires_at <= now


def human_size(size: int) -> str:
    """Bytes in binary units with one decimal: 1288490188 -> '1.2 GiB'."""
    value = float(size)
    for unit in ("bytes", "KiB", "MiB", "GiB", "TiB"):
        if value < 1024 or unit == "TiB":
            break
        value /= 1024
    text = f"{value:.1f}".removesuffix(".0")
    return f"{text} {unit}" if unit != "bytes" else f"{size} bytes"


def progress_message(done: int, total: int) -> str:
    """What an import's task says while the data streams through the worker."""
    if total <= 0:  # a web-download's size is unknown until its last byte
        return f"Copied {human_size(done)}"
    return f"Copied {human_size(done)} of {human_size(total)}"


def document(task: Task) -> dict[str, Any]:
    """The task as `GET /v2/tasks/{id}` shows it, without links. As Glance's schema filter
    does, fields without a value (result before success, expires_at before the end) are left
    out."""
    doc = {
        "id": task.id, "type": task.type, "status": str(task.status), "owner": task.owner,
        "input": dict(task.input), "result": dict(task.result) if task.result else None,
        "message": task.message, "image_id": task.image_id, "request_id": task.request_id,
        "user_id": task.user_id, "created_at": wire_time(task.created_at),
        "updated_at": wire_time(task.updated_at),
        "expires_at": wire_time(task.expires_at) if task.expires_at else None,
    }
    return {k: v for k, v in doc.items() if v is not None}


# Glance's _TASK_SCHEMA (glance/api/v2/tasks.py), as served at /v2/schemas/task.
_UUID = ("^([0-9a-fA-F]){8}-([0-9a-fA-F]){4}-([0-9a-fA-F]){4}-([0-9a-fA-F]){4}"
         "-([0-9a-fA-F]){12}$")
_TASK_PROPERTIES: dict[str, Any] = {
    "id": {"description": "An identifier for the task", "pattern": _UUID, "type": "string"},
    "type": {"description": "The type of task represented by this content",
             "enum": list(TASK_TYPES), "type": "string"},
    "status": {"description": "The current status of this task",
               "enum": [str(s) for s in TaskStatus], "type": "string"},
    "input": {"description": "The parameters required by task, JSON blob",
              "type": ["null", "object"]},
    "result": {"description": "The result of current task, JSON blob",
               "type": ["null", "object"]},
    "owner": {"description": "An identifier for the owner of this task", "type": "string"},
    "message": {"description": "Human-readable informative message only included when "
                               "appropriate (usually on failure)", "type": "string"},
    "image_id": {"description": "Image associated with the task", "type": "string"},
    "request_id": {"description": "Human-readable informative request-id", "type": "string"},
    "user_id": {"description": "User associated with the task", "type": "string"},
    "expires_at": {"description": "Datetime when this resource would be subject to removal",
                   "type": ["null", "string"]},
    "created_at": {"description": "Datetime when this resource was created", "type": "string"},
    "updated_at": {"description": "Datetime when this resource was updated", "type": "string"},
    "self": {"readOnly": True, "type": "string"},
    "schema": {"readOnly": True, "type": "string"},
}
# What Glance's partial task schema (a list's items) leaves out.
_NOT_IN_LISTS = ("input", "result", "message")


def task_schema() -> dict[str, Any]:
    """The task schema (`GET /v2/schemas/task`)."""
    return {"name": "task", "properties": copy.deepcopy(_TASK_PROPERTIES),
            "additionalProperties": False}


def tasks_schema() -> dict[str, Any]:
    """The task-list schema (`GET /v2/schemas/tasks`): lists show partial tasks."""
    partial = {k: copy.deepcopy(v) for k, v in _TASK_PROPERTIES.items()
               if k not in _NOT_IN_LISTS}
    return collection_schema("tasks", {"name": "task", "properties": partial,
                                       "additionalProperties": False})


SORT_KEYS = ("created_at", "updated_at", "expires_at", "id", "type", "status", "owner",
             "image_id")
# Exact-match filters: Glance's task list filters on any column of its tasks table.
FILTER_FIELDS = ("status", "type", "owner", "image_id", "user_id", "request_id")


@dataclass(frozen=True, slots=True)
class TaskQuery:
    """One page request for `GET /v2/tasks`."""

    limit: int = 25
    marker: str | None = None
    filters: tuple[tuple[str, str], ...] = ()
    sort_key: str = "created_at"
    sort_dir: str = "desc"

    @property
    def newest_first(self) -> bool:
        """True in the index's own order (created_at desc), so pages stream."""
        return self.sort_key == "created_at" and self.sort_dir == "desc"


def parse_task_query(params: Mapping[str, Sequence[str]]) -> TaskQuery:
    """Read Glance's task-list parameters (the last value of each wins).

    Raises:
        Invalid: a malformed limit, marker, sort or filter value (Glance's messages).
    """
    one = {k: v[-1] for k, v in params.items() if v}
    status = one.get("status")
    if status and status not in set(TaskStatus):
        raise Invalid(f"Invalid status value: {status}")
    kind = one.get("type")
    if kind and kind not in TASK_TYPES:
        raise Invalid(f"Invalid type value: {kind}")
    sort_dir = one.get("sort_dir", "desc")
    if sort_dir not in ("asc", "desc"):
        raise Invalid(f"Invalid sort direction: {sort_dir}")
    sort_key = one.get("sort_key", "created_at")
    if sort_key not in SORT_KEYS:
        raise Invalid(f"Sort key supplied was not valid: {sort_key}. It must be one of the "
                      f"following: {', '.join(SORT_KEYS)}.")
    marker = one.get("marker")
    if marker is not None and not _uuid_like(marker):
        raise Invalid("Invalid marker format")
    return TaskQuery(limit=parse_limit(one.get("limit")), marker=marker or None,
                     filters=tuple((k, one[k]) for k in FILTER_FIELDS if one.get(k)),
                     sort_key=sort_key, sort_dir=sort_dir)


def matches(task: Task, query: TaskQuery) -> bool:
    """Whether the task passes every filter of the query."""
    return all(str(getattr(task, name) or "") == value for name, value in query.filters)


def ordered(tasks: Iterable[Task], query: TaskQuery) -> list[Task]:
    """The tasks in the query's order; ties by created_at, then id, in the same direction."""
    return sorted(tasks, key=lambda t: (str(getattr(t, query.sort_key) or ""), t.created_at,
                                        t.id), reverse=query.sort_dir == "desc")


def _uuid_like(value: str) -> bool:
    try:
        uuid.UUID(value)
    except ValueError:
        return False
    return True

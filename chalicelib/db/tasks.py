"""Task repository: the queries and conditional writes the services and the worker need.

Read costs (DynamoDB items read): get 1; for_image the image's tasks (one GSI query);
newest_first lazily, page by page (the admin list); unfinished only pending/processing tasks
(a sparse GSI), for the reaper. Tasks past `expires_at` that DynamoDB has not yet deleted
(it may take a day or two) are never returned.
"""
from __future__ import annotations

from collections.abc import Iterator

from pynamodb.exceptions import DoesNotExist

from chalicelib.db.models import TaskModel, bound, image_order_key
from chalicelib.db.writes import conditional
from chalicelib.domain.errors import Conflict, NotFound, StaleWrite
from chalicelib.domain.image import format_stamp, parse_stamp, utcnow
from chalicelib.domain.tasks import FINISHED, Task, TaskStatus, is_expired

# The one partition of the all-tasks index, and the value that puts a task in the sparse
# unfinished-tasks index.
_ALL = "task"
_UNFINISHED = "unfinished"


def create(task: Task) -> Task:
    """Store a new task.

    Raises:
        Conflict: a task already has this id.
    """
    item = _to_item(task)
    conditional(lambda: item.save(condition=TaskModel.id.does_not_exist()),
                Conflict(f"Task with identifier {task.id} already exists!"))
    return task


def get(task_id: str) -> Task:
    """Read one live task.

    Raises:
        NotFound: no such task, or it has expired.
    """
    try:
        item = bound(TaskModel).get(task_id, consistent_read=True)
    except DoesNotExist as exc:
        raise NotFound(f"Task with the given ID {task_id} could not be found") from exc
    task = _to_domain(item)
    if is_expired(task, utcnow()):
        raise NotFound(f"Task with the given ID {task_id} could not be found")
    return task


def save(task: Task, from_status: TaskStatus) -> Task:
    """Write the task if it is still in `from_status` (a transition made once only).

    Raises:
        StaleWrite: the stored task has moved on (or is gone).
    """
    item = _to_item(task)
    conditional(lambda: item.save(condition=TaskModel.status == str(from_status)),
                StaleWrite(f"Task {task.id} was changed meanwhile."))
    return task


def note(task_id: str, message: str, now: str) -> bool:
    """Set an unfinished task's message (progress, a request sent again); False if the task
    has finished."""
    item = bound(TaskModel)(task_id)
    return conditional(lambda: item.update(
        actions=[TaskModel.message.set(message), TaskModel.updated_at.set(now)],
        condition=TaskModel.status.is_in(str(TaskStatus.PROCESSING), str(TaskStatus.PENDING))))


def for_image(image_id: str) -> list[Task]:
    """The image's live tasks, newest first."""
    now = utcnow()
    items = bound(TaskModel).by_image.query(image_id, scan_index_forward=False)
    return [t for t in map(_to_domain, items) if not is_expired(t, now)]


def newest_first(before: Task | None = None, page_size: int = 100) -> Iterator[Task]:
    """Every live task, newest first, strictly older than `before`; lazy."""
    now = utcnow()
    condition = (TaskModel.sort_key < image_order_key(before.created_at, before.id)
                 if before else None)
    items = bound(TaskModel).every.query(_ALL, range_key_condition=condition,
                                         scan_index_forward=False, page_size=page_size)
    return (t for t in map(_to_domain, items) if not is_expired(t, now))


def unfinished(changed_before: str) -> Iterator[Task]:
    """Pending and processing tasks not changed since `changed_before`, oldest first."""
    index = bound(TaskModel).unfinished_index
    return map(_to_domain, index.query(_UNFINISHED,
                                       range_key_condition=TaskModel.updated_at < changed_before))


def _to_item(task: Task) -> TaskModel:
    return bound(TaskModel)(
        task.id, type=task.type, status=str(task.status), owner=task.owner,
        image_id=task.image_id, user_id=task.user_id, request_id=task.request_id,
        input=dict(task.input), result=dict(task.result) if task.result is not None else None,
        message=task.message or None, created_at=task.created_at, updated_at=task.updated_at,
        sort_key=image_order_key(task.created_at, task.id), list_all=_ALL,
        unfinished=None if task.status in FINISHED else _UNFINISHED,
        expires_at=parse_stamp(task.expires_at) if task.expires_at else None,
    )


def _to_domain(item: TaskModel) -> Task:
    expires = item.expires_at
    return Task(
        id=item.id, type=item.type, owner=item.owner, image_id=item.image_id,
        created_at=item.created_at, updated_at=item.updated_at,
        status=TaskStatus(item.status), input=item.input or {}, result=item.result,
        message=item.message or "", user_id=item.user_id, request_id=item.request_id,
        expires_at=format_stamp(expires) if expires else None,
    )


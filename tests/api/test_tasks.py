"""Import tasks through the API: every import is a task record, shown as Glance shows it at
GET /v2/images/{id}/tasks, GET /v2/tasks/{id} and (admins) GET /v2/tasks."""
from __future__ import annotations

import os
from datetime import datetime, timedelta

from chalicelib import events
from chalicelib.config import get_settings
from tests.support import call, create_image, deliver, drain

OCTETS = "application/octet-stream"


def _put_file(client, image_id, data, project="admin", roles="admin"):
    headers = {"X-Project-Id": project, "X-Roles": roles, "Content-Type": OCTETS}
    return client.http.put(f"/v2/images/{image_id}/file", headers=headers, body=data)


def _image_tasks(client, image_id, project="admin", roles="admin"):
    status, body, _ = call(client, "GET", f"/v2/images/{image_id}/tasks", project=project,
                           roles=roles)
    assert status == 200, body
    return body["tasks"]


def _stamp(wire: str) -> datetime:
    return datetime.strptime(wire, "%Y-%m-%dT%H:%M:%SZ")


def test_put_file_records_a_successful_task(client, published):
    image = create_image(client, project="p1")
    assert _put_file(client, image["id"], os.urandom(5000), "p1", "member").status_code == 204
    [listed] = _image_tasks(client, image["id"], "p1", "member")
    assert listed["status"] == "success" and listed["type"] == "api_image_import"
    assert listed["image_id"] == image["id"] and listed["owner"] == "p1"
    assert listed["input"] == {"image_id": image["id"],
                               "import_req": {"method": {"name": "glint-file-upload"}}}
    assert listed["result"] == {"image_id": image["id"]}
    assert listed["deleted"] is False and listed["deleted_at"] is None
    # Glance serializes these rows with oslo's to_primitive: microseconds, no zone.
    assert datetime.strptime(listed["created_at"], "%Y-%m-%dT%H:%M:%S.%f")
    status, task, _ = call(client, "GET", f"/v2/tasks/{listed['id']}", project="p1",
                           roles="member")
    assert status == 200, task
    assert task["self"] == f"/v2/tasks/{listed['id']}" and task["schema"] == "/v2/schemas/task"
    assert task["status"] == "success" and task["result"] == {"image_id": image["id"]}
    assert "4.9 KiB copied" in task["message"]
    # Finished tasks expire after Glance's task_time_to_live (48 h by default).
    assert _stamp(task["expires_at"]) - _stamp(task["updated_at"]) == timedelta(hours=48)
    names = [name for name, detail in published if name.startswith("task.")]
    assert names == [events.TASK_CREATE, events.TASK_PROCESSING, events.TASK_SUCCESS]
    created = next(d for n, d in published if n == events.TASK_CREATE)
    assert created["task"]["status"] == "pending" and created["image_id"] == image["id"]


def test_rejected_put_fails_its_task_with_the_reason_and_lists_newest_first(client):
    image = create_image(client, disk_format="qcow2")
    assert _put_file(client, image["id"], os.urandom(4096)).status_code == 415
    reason = call(client, "GET", f"/v2/images/{image['id']}")[1]["os_glint_import_error"]
    patch = [{"op": "replace", "path": "/disk_format", "value": "raw"}]
    assert call(client, "PATCH", f"/v2/images/{image['id']}", patch,
                content_type="application/openstack-images-v2.1-json-patch")[0] == 200
    assert _put_file(client, image["id"], os.urandom(4096)).status_code == 204
    newest, oldest = _image_tasks(client, image["id"])
    assert newest["status"] == "success"
    assert oldest["status"] == "failure" and oldest["message"] == reason
    assert oldest["result"] is None and oldest["expires_at"] is not None
    shown = call(client, "GET", f"/v2/tasks/{oldest['id']}")[1]
    assert "result" not in shown  # Glance's schema filter drops empty values


def test_glance_direct_import_task_waits_then_succeeds(client, inprocess_aws):
    image = create_image(client)
    headers = {"X-Project-Id": "admin", "X-Roles": "admin", "Content-Type": OCTETS}
    client.http.put(f"/v2/images/{image['id']}/stage", headers=headers, body=os.urandom(2000))
    assert _image_tasks(client, image["id"]) == []  # staging is not an import yet
    body = {"method": {"name": "glance-direct"}}
    assert call(client, "POST", f"/v2/images/{image['id']}/import", body)[0] == 202
    [pending] = _image_tasks(client, image["id"])
    assert pending["status"] == "pending" and pending["message"]
    assert pending["input"]["import_req"] == body
    assert pending["expires_at"] is None
    deliver(client, drain(inprocess_aws.queue_url, wait=0))
    [done] = _image_tasks(client, image["id"])
    assert done["id"] == pending["id"] and done["status"] == "success"


def test_presigned_upload_grant_creates_a_pending_task(client):
    image = create_image(client)
    assert call(client, "POST", f"/v2/images/{image['id']}/uploads", {"size": 10})[0] == 201
    [task] = _image_tasks(client, image["id"])
    assert task["status"] == "pending"
    assert task["input"]["import_req"] == {"method": {"name": "glint-direct-upload"}}
    assert "uploaded" in task["message"]


def test_tasks_are_invisible_to_other_projects(client):
    image = create_image(client, project="p1", visibility="community")
    _put_file(client, image["id"], os.urandom(100), "p1", "member")
    [task] = _image_tasks(client, image["id"], "p1", "member")
    status, body, _ = call(client, "GET", f"/v2/tasks/{task['id']}", project="p2",
                           roles="member")
    assert status == 404 and body["error"]["code"] == 404
    # The image is visible to all, but its tasks are its owner's (Glance's get_image_tasks rule).
    assert call(client, "GET", f"/v2/images/{image['id']}/tasks", project="p2",
                roles="member")[0] == 404
    private = create_image(client, project="p1", visibility="private")
    assert call(client, "GET", f"/v2/images/{private['id']}/tasks", project="p2",
                roles="member")[0] == 404
    assert call(client, "GET", f"/v2/tasks/{task['id']}")[0] == 200  # admins see all
    assert call(client, "GET", "/v2/tasks/00000000-0000-0000-0000-000000000000")[0] == 404


def test_task_list_is_for_admins_with_glance_filters_and_pages(client):
    ids = []
    for _ in range(3):
        image = create_image(client)
        _put_file(client, image["id"], os.urandom(100))
        ids.append(_image_tasks(client, image["id"])[0]["id"])
    assert call(client, "GET", "/v2/tasks", project="p1", roles="member")[0] == 403
    status, body, _ = call(client, "GET", "/v2/tasks?limit=2")
    assert status == 200 and body["schema"] == "/v2/schemas/tasks"
    assert [t["id"] for t in body["tasks"]] == ids[::-1][:2]
    assert set(body["tasks"][0]) == {"id", "type", "status", "owner", "created_at",
                                     "updated_at", "expires_at", "self", "schema"}
    assert body["first"] == "/v2/tasks?limit=2"
    rest = call(client, "GET", body["next"])[1]
    assert [t["id"] for t in rest["tasks"]] == [ids[0]] and "next" not in rest
    ascending = call(client, "GET", "/v2/tasks?sort_dir=asc&sort_key=created_at")[1]
    assert [t["id"] for t in ascending["tasks"]] == ids
    assert call(client, "GET", "/v2/tasks?status=failure")[1]["tasks"] == []
    assert len(call(client, "GET", "/v2/tasks?type=api_image_import")[1]["tasks"]) == 3
    for bad in ("status=done", "type=copy", "sort_dir=up", "sort_key=message", "limit=-1",
                "limit=x", "marker=not-a-uuid", "marker=00000000-0000-0000-0000-000000000000"):
        status, body, _ = call(client, "GET", f"/v2/tasks?{bad}")
        assert status == 400, (bad, body)


def test_legacy_tasks_are_for_admins_and_never_deleted(client):
    body = {"type": "import", "input": {"import_from": "http://example.com/x.img"}}
    assert call(client, "POST", "/v2/tasks", body, project="p1", roles="member")[0] == 403
    some_id = "00000000-0000-0000-0000-000000000000"
    assert call(client, "DELETE", f"/v2/tasks/{some_id}")[0] == 405


def test_finished_tasks_expire_after_the_configured_ttl(client, glint_env):
    glint_env(GLINT_TASK_TTL_SECONDS="0")
    image = create_image(client)
    _put_file(client, image["id"], os.urandom(100))
    assert _image_tasks(client, image["id"]) == []  # expired: DynamoDB deletes it later
    glint_env(GLINT_TASK_TTL_SECONDS="3600")
    other = create_image(client)
    _put_file(client, other["id"], os.urandom(100))
    [task] = _image_tasks(client, other["id"])
    assert get_settings().task_ttl_seconds == 3600
    shown = call(client, "GET", f"/v2/tasks/{task['id']}")[1]
    assert _stamp(shown["expires_at"]) - _stamp(shown["updated_at"]) == timedelta(hours=1)


def test_task_schemas_are_glances(client):
    status, task, _ = call(client, "GET", "/v2/schemas/task")
    assert status == 200 and task["name"] == "task" and task["additionalProperties"] is False
    assert set(task["properties"]) == {
        "id", "type", "status", "input", "result", "owner", "message", "image_id",
        "request_id", "user_id", "expires_at", "created_at", "updated_at", "self", "schema"}
    assert task["properties"]["status"]["enum"] == ["pending", "processing", "success",
                                                    "failure"]
    assert task["properties"]["result"]["type"] == ["null", "object"]
    tasks = call(client, "GET", "/v2/schemas/tasks")[1]
    item = tasks["properties"]["tasks"]["items"]
    assert tasks["name"] == "tasks" and not {"input", "result", "message"} & set(item["properties"])
    assert {link["rel"] for link in tasks["links"]} == {"first", "next", "describedby"}

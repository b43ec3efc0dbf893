"""Issue 3's judges: the standard OpenStack clients, unmodified, against the local runtime.
Two projects are told apart by local development tokens (`user:project:roles`)."""
from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import openstack
import pytest

BIN = Path(sys.executable).parent
ALICE = "alice:p1:member,reader"
BOB = "bob:p2:member,reader"


def _osc(runtime, token, *args, check=True):
    """`openstack ...` with an admin_token and an endpoint override without the version."""
    command = [str(BIN / "openstack"), "--os-auth-type", "admin_token", "--os-token", token,
               "--os-endpoint", runtime.api, *args]
    # stdin is closed: `image create` without --file would otherwise read it as image data.
    result = subprocess.run(command, capture_output=True, text=True, timeout=120,
                            stdin=subprocess.DEVNULL)
    if check:
        assert result.returncode == 0, (args, result.stdout, result.stderr)
    return result


def _osc_json(runtime, token, *args):
    return json.loads(_osc(runtime, token, *args, "-f", "json").stdout)


def _glance(runtime, token, *args):
    command = [str(BIN / "glance"), "--os-image-url", runtime.api, "--os-auth-token", token, *args]
    result = subprocess.run(command, capture_output=True, text=True, timeout=120,
                            stdin=subprocess.DEVNULL)
    assert result.returncode == 0, (args, result.stdout, result.stderr)
    return result.stdout


def _sdk(runtime, token):
    return openstack.connect(auth_type="admin_token",
                             auth={"token": token, "endpoint": runtime.api})


def _wait_status(conn, image_id, wanted, seconds=60):
    deadline = time.monotonic() + seconds
    while (image := conn.image.get_image(image_id)).status != wanted:
        assert time.monotonic() < deadline, image.status
        time.sleep(0.3)
    return image


@pytest.fixture()
def image_file(tmp_path):
    data = os.urandom(3 * 1024 * 1024 + 11)
    path = tmp_path / "disk.raw"
    path.write_bytes(data)
    return path, data


def test_openstack_cli_upload_show_save_properties_tags_states_delete(glint_runtime, image_file,
                                                                       tmp_path):
    path, data = image_file
    created = _osc_json(glint_runtime, ALICE, "image", "create", "--disk-format", "raw",
                        "--container-format", "bare", "--file", str(path), "--property",
                        "os_distro=cirros", "--private", "cli-image")
    image_id = created["id"]
    shown = _osc_json(glint_runtime, ALICE, "image", "show", image_id)
    assert shown["status"] == "active" and shown["size"] == len(data)
    assert shown["checksum"] == hashlib.md5(data).hexdigest()
    assert shown["properties"]["os_hash_value"] == hashlib.sha512(data).hexdigest()
    assert shown["properties"]["os_distro"] == "cirros"

    saved = tmp_path / "saved.raw"
    _osc(glint_runtime, ALICE, "image", "save", "--file", str(saved), image_id)
    assert saved.read_bytes() == data

    _osc(glint_runtime, ALICE, "image", "set", "--property", "hw_disk_bus=virtio",
         "--tag", "gold", "--tag", "tested", image_id)
    _osc(glint_runtime, ALICE, "image", "unset", "--property", "os_distro", "--tag", "tested",
         image_id)
    shown = _osc_json(glint_runtime, ALICE, "image", "show", image_id)
    assert shown["properties"]["hw_disk_bus"] == "virtio"
    assert "os_distro" not in shown["properties"] and shown["tags"] == ["gold"]

    _osc(glint_runtime, ALICE, "image", "set", "--deactivate", image_id)
    assert _osc_json(glint_runtime, ALICE, "image", "show", image_id)["status"] == "deactivated"
    _osc(glint_runtime, ALICE, "image", "set", "--activate", image_id)
    assert _osc_json(glint_runtime, ALICE, "image", "show", image_id)["status"] == "active"

    # Project p2 never sees p1's private image.
    assert image_id not in _osc(glint_runtime, BOB, "image", "list", "-f", "value",
                                "-c", "ID").stdout
    assert _osc(glint_runtime, BOB, "image", "show", image_id, check=False).returncode != 0

    _osc(glint_runtime, ALICE, "image", "delete", image_id)
    assert _osc(glint_runtime, ALICE, "image", "show", image_id, check=False).returncode != 0


def test_stage_and_glance_direct_import_with_the_cli(glint_runtime, image_file):
    path, data = image_file
    conn = _sdk(glint_runtime, ALICE)
    image = conn.image.create_image(name="staged", disk_format="raw", container_format="bare",
                                    allow_duplicates=True)
    _osc(glint_runtime, ALICE, "image", "stage", "--file", str(path), image.id)
    assert conn.image.get_image(image.id).status == "uploading"
    # Without --disallow-failure OSC sends all_stores_must_succeed=false, which single-store
    # Glance (and Glint with one store) refuses with 400.
    _osc(glint_runtime, ALICE, "image", "import", "--method", "glance-direct",
         "--disallow-failure", image.id)
    active = _wait_status(conn, image.id, "active")
    assert active.checksum == hashlib.md5(data).hexdigest()


def test_sdk_lists_with_filters_sorting_and_pagination(glint_runtime):
    conn = _sdk(glint_runtime, ALICE)
    marker = f"pager-{os.getpid()}"
    names = [f"{marker}-{letter}" for letter in "dbeac"]
    for name in names:
        conn.image.create_image(name=name, disk_format="qcow2", container_format="bare",
                                allow_duplicates=True, tags=[marker])
    listed = [i.name for i in conn.image.images(tag=marker, sort="name:asc", limit=2)]
    assert listed == sorted(names)  # five images over three pages, in name order
    newest = [i.name for i in conn.image.images(tag=marker, limit=2)]
    assert newest == list(reversed(names))
    assert [i.name for i in conn.image.images(tag=marker, name=names[0])] == [names[0]]
    assert [i.name for i in conn.image.images(tag=marker, disk_format="raw")] == []


def test_sharing_with_glanceclient_member_commands(glint_runtime, image_file):
    path, _ = image_file
    owner = _sdk(glint_runtime, ALICE)
    image = owner.image.create_image(name="to-share", disk_format="raw", container_format="bare",
                                     visibility="shared", allow_duplicates=True)
    member_view = _sdk(glint_runtime, BOB)
    assert image.id not in [i.id for i in member_view.image.images()]
    assert "pending" in _glance(glint_runtime, ALICE, "member-create", image.id, "p2")
    assert "accepted" in _glance(glint_runtime, BOB, "member-update", image.id, "p2", "accepted")
    assert image.id in [i.id for i in member_view.image.images()]
    assert "p2" in _glance(glint_runtime, ALICE, "member-list", "--image-id", image.id)

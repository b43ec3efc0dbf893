"""The clients as a new user meets them (issue 13): the README's "Using it" block pasted as
is, glanceclient's download and member commands under each project's own identity, and
Glance's answers where nothing is served."""
from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import requests

PROJECT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
ALICE = "alice:p1:member,reader"
BOB = "bob:p2:member,reader"


def _glance(runtime, token, *args, ok=True):
    env = {k: v for k, v in os.environ.items() if not k.startswith("OS_")}
    result = subprocess.run([str(BIN / "glance"), "--os-image-url", runtime.api,
                             "--os-auth-token", token, *args], capture_output=True, text=True,
                            timeout=120, stdin=subprocess.DEVNULL, env=env)
    assert (result.returncode == 0) == ok, (args, result.stdout, result.stderr)
    return result.stdout + result.stderr


def _readme_block() -> str:
    readme = (PROJECT / "README.md").read_text()
    section = readme.split("## Using it", 1)[1]
    return re.search(r"```sh\n(.*?)```", section, re.S).group(1)


def test_the_readme_block_works_pasted_as_is(glint_runtime, tmp_path):
    script = _readme_block().replace("http://127.0.0.1:9292", glint_runtime.api)
    env = {k: v for k, v in os.environ.items() if not k.startswith("OS_")}
    env["PATH"] = f"{BIN}{os.pathsep}{env['PATH']}"
    result = subprocess.run(["bash", "-e", "-c", script], cwd=tmp_path, env=env,
                            capture_output=True, text=True, timeout=300,
                            stdin=subprocess.DEVNULL)
    assert result.returncode == 0, (result.stdout, result.stderr)
    assert result.stdout.rstrip().endswith("same bytes")


def test_glanceclient_download_and_members_run_as_each_project(glint_runtime, tmp_path):
    data = os.urandom(2 * 1024 * 1024 + 5)
    (tmp_path / "disk.raw").write_bytes(data)
    created = _glance(glint_runtime, ALICE, "image-create", "--disk-format", "raw",
                      "--container-format", "bare", "--visibility", "shared", "--name", "ours",
                      "--file", str(tmp_path / "disk.raw"))
    image_id = re.search(r"\|\s+id\s+\|\s+(\S+)", created).group(1)
    assert re.search(r"\|\s+owner\s+\|\s+p1\s", created)  # alice's project, not admin's
    # bob is no admin: he does not see alice's image before it is shared with him...
    assert "No image found" in _glance(glint_runtime, BOB, "member-create", image_id, "p3",
                                       ok=False)
    assert "pending" in _glance(glint_runtime, ALICE, "member-create", image_id, "p2")
    assert "accepted" in _glance(glint_runtime, BOB, "member-update", image_id, "p2",
                                 "accepted")
    # ...and, a member, still may not share it further.
    assert "Not allowed" in _glance(glint_runtime, BOB, "member-create", image_id, "p3",
                                    ok=False)
    _glance(glint_runtime, BOB, "image-download", "--file", str(tmp_path / "back.raw"),
            image_id)
    assert (tmp_path / "back.raw").read_bytes() == data


def test_a_token_glint_cannot_read_is_refused(glint_runtime):
    assert "Invalid OpenStack Identity credentials" in _glance(  # glanceclient's 401
        glint_runtime, "not-a-dev-token", "image-list", ok=False)
    answer = requests.get(f"{glint_runtime.api}/v2/images",
                          headers={"X-Auth-Token": "alice%3Ap1%3Amember"}, timeout=10)
    assert answer.status_code == 200  # percent-encoded, as glanceclient sends it


def test_unknown_routes_and_methods_answer_as_glance(glint_runtime):
    token = {"X-Auth-Token": ALICE}
    unknown = requests.get(f"{glint_runtime.api}/v3/projects/p2", headers=token, timeout=10)
    assert unknown.status_code == 404
    assert unknown.json()["error"]["code"] == 404
    empty_id = requests.delete(f"{glint_runtime.api}/v2/images/", headers=token, timeout=10)
    assert empty_id.status_code == 404
    wrong = requests.put(f"{glint_runtime.api}/v2/images", headers=token, timeout=10)
    assert wrong.status_code == 405 and wrong.headers["Allow"] == "GET, POST"


def test_the_default_metadefs_catalog_is_there_at_start(glint_runtime):
    types = requests.get(f"{glint_runtime.api}/v2/metadefs/resource_types",
                         headers={"X-Auth-Token": ALICE}, timeout=10).json()["resource_types"]
    assert {"OS::Glance::Image", "OS::Nova::Flavor", "OS::Cinder::Volume"} <= {
        t["name"] for t in types}

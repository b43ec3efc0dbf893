"""The browser upload page, driven in real headless Chromium (Playwright) against the local
runtime: upload to active, a reload mid-upload resumed by picking the same file again, a
rejection displayed; and the bucket's CORS rule allowing exactly the page's part PUTs."""
from __future__ import annotations

import hashlib
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

MIB = 1024 * 1024
TOKEN = "carol:p7:member,reader"
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
# Chromium on a machine with no outside network: nothing in the background may dial out.
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update",
                 "--disable-sync"]
RECORDED_PARTS = """() => {
  const key = Object.keys(localStorage).find((k) => k.startsWith("glint-upload:"));
  return key ? Object.keys(JSON.parse(localStorage[key]).etags).length : 0;
}"""


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    sync_api = pytest.importorskip("playwright.sync_api",
                                   reason="Playwright for Python is not installed")
    if not Path(CHROMIUM).exists():
        pytest.skip("Debian's chromium is not installed (scripts/test installs it when root)")
    with sync_api.sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture()
def page(browser, glint_runtime):
    context = browser.new_context()
    page = context.new_page()
    page.goto(f"{glint_runtime.api}/upload")
    page.fill("#token", TOKEN)
    yield page
    context.close()


def _file(path: Path, size: int) -> bytes:
    data = b"".join(hashlib.sha512(i.to_bytes(8, "big")).digest() for i in range(size // 64))
    path.write_bytes(data)
    return data


def _start(page, source: Path, disk_format: str = "raw") -> None:
    page.set_input_files("#file", str(source))
    page.select_option("#disk_format", disk_format)
    page.click("#start")


def test_page_uploads_a_file_until_the_image_is_active(page, glint_runtime, tmp_path):
    source = tmp_path / "page.raw"
    data = _file(source, 20 * MIB)
    _start(page, source)
    page.wait_for_selector("#status:has-text('is active')", timeout=90_000)
    image_id = page.text_content("#status").split()[1]
    shown = requests.get(f"{glint_runtime.api}/v2/images/{image_id}",
                         headers={"X-Auth-Token": TOKEN}, timeout=30).json()
    assert shown["status"] == "active" and shown["name"] == "page.raw"
    assert shown["os_hash_value"] == hashlib.sha512(data).hexdigest()
    assert page.get_attribute("#bar", "value") == "1"


def test_reload_mid_upload_resumes_with_the_same_file(page, glint_runtime, tmp_path):
    source = tmp_path / "resume.raw"
    data = _file(source, 40 * MIB)  # 5 parts of 8 MiB
    # First visit: parts 1 and 2 reach S3; the network drops every other part.
    page.route("**/*partNumber=*", lambda route: route.continue_() if any(
        f"partNumber={n}&" in route.request.url + "&" for n in (1, 2)) else route.abort())
    _start(page, source)
    page.wait_for_function(f"() => ({RECORDED_PARTS})() >= 2", timeout=60_000)
    page.reload()  # before the route goes: a retry must not slip through in between
    page.unroute("**/*partNumber=*")

    sent = []
    page.on("request", lambda r: sent.append(r.url) if r.method == "PUT" else None)
    _start(page, source)  # the same file picked again; the token survives the reload
    page.wait_for_selector("#status:has-text('is active')", timeout=90_000)
    assert len(sent) == 3  # only the parts S3 did not have
    image_id = page.text_content("#status").split()[1]
    shown = requests.get(f"{glint_runtime.api}/v2/images/{image_id}",
                         headers={"X-Auth-Token": TOKEN}, timeout=30).json()
    assert shown["checksum"] == hashlib.md5(data).hexdigest()


def test_rejection_is_displayed(page, tmp_path):
    source = tmp_path / "fake.qcow2"
    _file(source, 2 * MIB)
    _start(page, source, disk_format="qcow2")
    page.wait_for_selector("#error:has-text('Rejected:')", timeout=90_000)
    assert "not in that format" in page.text_content("#error")
    assert "was rejected" in page.text_content("#status")


def test_bucket_cors_allows_the_page_origin_to_put_and_nothing_else(glint_runtime):
    url = requests.post(f"{glint_runtime.api}/v2/images", headers={"X-Auth-Token": TOKEN},
                        json={"disk_format": "raw", "container_format": "bare"},
                        timeout=30).json()["id"]
    grant = requests.post(f"{glint_runtime.api}/v2/images/{url}/uploads",
                          headers={"X-Auth-Token": TOKEN}, json={"size": 10}, timeout=30).json()

    def preflight(origin: str, method: str) -> requests.Response:
        return requests.options(grant["url"], headers={
            "Origin": origin, "Access-Control-Request-Method": method}, timeout=30)

    allowed = preflight(glint_runtime.api, "PUT")
    assert allowed.status_code == 200
    assert allowed.headers["Access-Control-Allow-Origin"] == glint_runtime.api
    assert allowed.headers["Access-Control-Allow-Methods"] == "PUT"  # nothing else
    assert allowed.headers["Access-Control-Expose-Headers"] == "ETag"
    assert preflight("http://127.0.0.1:1", "PUT").status_code == 403  # another origin

"""The throughput benchmark's baseline: the least a Python process can do to upload a file
through Glint's direct upload. Create the image, ask for a multipart grant, PUT each part as
read from the file (`concurrency` at a time, each over a requests session of its own, from a buffer
of its own that is reused: no allocation per part), complete. Nothing else: no hashing, no
progress, no resume state.

    python -m tests.bench.bare_upload API TOKEN FILE PART_BYTES CONCURRENCY

prints the image id and the seconds its PUTs took."""
from __future__ import annotations

import os
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import requests


def upload(api: str, token: str, path: str, part_size: int, concurrency: int) -> tuple[str, float]:
    """The new image's id, and the seconds from the first PUT to the last answer."""
    headers = {"X-Auth-Token": token}
    size = os.path.getsize(path)
    image = requests.post(f"{api}/v2/images", headers=headers, timeout=30, json={
        "disk_format": "raw", "container_format": "bare"}).json()
    grant = requests.post(f"{api}/v2/images/{image['id']}/uploads", headers=headers, timeout=30,
                          json={"size": size, "multipart": True, "part_size": part_size}).json()
    connections = threading.local()
    fd = os.open(path, os.O_RDONLY)

    def put(part: dict) -> dict:
        if not hasattr(connections, "session"):
            connections.session, connections.buffer = requests.Session(), bytearray(part_size)
        body = memoryview(connections.buffer)[:part["size"]]
        assert os.preadv(fd, [body], (part["part_number"] - 1) * part_size) == part["size"]
        answer = connections.session.put(part["url"], data=body, headers=part["headers"],
                                         timeout=300)
        answer.raise_for_status()
        return {"part_number": part["part_number"], "etag": answer.headers["ETag"]}

    began = time.perf_counter()
    with ThreadPoolExecutor(concurrency) as pool:
        parts = list(pool.map(put, grant["parts"]))
    puts = time.perf_counter() - began
    os.close(fd)
    requests.post(f"{api}{grant['complete']}", headers=headers, timeout=300,
                  json={"parts": parts}).raise_for_status()
    return image["id"], puts


if __name__ == "__main__":
    api_url, token_value, file_path, part_bytes, senders = sys.argv[1:6]
    image_id, seconds = upload(api_url, token_value, file_path, int(part_bytes), int(senders))
    print(image_id, f"{seconds:.3f}")

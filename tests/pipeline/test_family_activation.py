"""An image of a family becomes its latest when the worker activates it (the activation's
targeted write puts it in the family index)."""
from __future__ import annotations

import os

from tests.support import call, create_image, deliver, drain, upload_single


def test_worker_activation_makes_the_image_resolvable(server_client, server_aws):
    image = create_image(server_client, os_glint_family="fam")
    path = "/v2/images?family=fam&latest=true"
    assert call(server_client, "GET", path)[1]["images"] == []
    upload_single(server_client, image["id"], os.urandom(1024))
    deliver(server_client, drain(server_aws.queue_url))
    assert [i["id"] for i in call(server_client, "GET", path)[1]["images"]] == [image["id"]]

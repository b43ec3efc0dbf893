"""Glint: the OpenStack Images API v2 on Chalice. Builds the app; the blueprints do the work."""
from __future__ import annotations

import logging

from chalice import Chalice

from chalicelib import logs, tracing
from chalicelib.api import (actions, authorizer, data, fallback, families, image_data,
                            images, incremental, info, locations, members, metadefs,
                            metadefs_contents, quotas, stores, tags, tasks, upload_page, uploads,
                            versions)
from chalicelib.pipeline import handlers

app = Chalice(app_name="glint")
app.log.setLevel(logging.INFO)
logs.configure(app.log)
tracing.configure()

BLUEPRINTS = (
    # API Gateway's authorizer first: every view is attached to it in deployed stages.
    authorizer,
    # The Images API v2: discovery, images and their data, sharing, tasks, stores, quotas.
    versions, images, uploads, data, image_data, locations, members, tags, actions, tasks,
    stores, info, quotas,
    # Incremental images (block manifests, parts copied from a parent); deprecation.
    incremental, families,
    # Glint's browser upload page (served beside the API, so its calls are same-origin).
    upload_page,
    # The metadata definitions catalog.
    metadefs, metadefs_contents,
    # The import pipeline's functions: queue consumers and schedules.
    handlers,
)
for module in BLUEPRINTS:
    app.register_blueprint(module.bp)
fallback.install(app)  # last: Glance's 405 for every method a path does not serve

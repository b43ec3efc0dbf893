"""Glint: the OpenStack Images API v2 on Chalice. Builds the app; the blueprints do the work."""
from __future__ import annotations

import logging

from chalice import Chalice

from chalicelib import logs, tracing
from chalicelib.api import data, image_data, images, uploads, versions
from chalicelib.api import actions, info, members, quotas, tags
from chalicelib.api import tasks
from chalicelib.api import stores
from chalicelib.api import metadefs, metadefs_contents
from chalicelib.api import authorizer
from chalicelib.pipeline import handlers

app = Chalice(app_name="glint")
app.log.setLevel(logging.INFO)
logs.configure(app.log)
tracing.configure()

# API Gateway's authorizer; every view is attached to it in deployed stages (see docs/auth.md).
app.register_blueprint(authorizer.bp)

for blueprint in (versions.bp, images.bp, uploads.bp, data.bp, image_data.bp, handlers.bp):
    app.register_blueprint(blueprint)
for blueprint in (metadefs.bp, metadefs_contents.bp):
    app.register_blueprint(blueprint)
for blueprint in (members.bp, tags.bp, actions.bp, info.bp, quotas.bp):
    app.register_blueprint(blueprint)
app.register_blueprint(tasks.bp)
app.register_blueprint(stores.bp)

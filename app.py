"""Glint: the OpenStack Images API v2 on Chalice. Builds the app; the blueprints do the work."""
from __future__ import annotations

import logging

from chalice import Chalice

from chalicelib import tracing
from chalicelib.api import data, images, uploads, versions
from chalicelib.pipeline import handlers

app = Chalice(app_name="glint")
app.log.setLevel(logging.INFO)
tracing.configure()

for blueprint in (versions.bp, images.bp, uploads.bp, data.bp, handlers.bp):
    app.register_blueprint(blueprint)

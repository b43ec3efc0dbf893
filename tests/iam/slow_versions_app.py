"""The app, with a version document that takes 3 seconds (for the API timeout test, whose
API function runs in an execution environment of its own)."""
from __future__ import annotations

import time

from app import app
from chalicelib.api import versions

_document = versions._versions
versions._versions = lambda: time.sleep(3) or _document()

__all__ = ["app"]

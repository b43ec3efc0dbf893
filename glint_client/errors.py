"""The upload's failures that the command reports, raised by more than one module."""
from __future__ import annotations


class SourceChanged(Exception):
    """The file is not the one the interrupted upload was sending."""


class UploadFailed(Exception):
    """A part could not be sent after every retry; the upload can be resumed."""

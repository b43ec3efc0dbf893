"""Conditional writes: a failed condition becomes the caller's named domain error."""
from __future__ import annotations

from collections.abc import Callable

from pynamodb.exceptions import DeleteError, PutError, UpdateError

_CONDITION_FAILED = "ConditionalCheckFailedException"


def conditional(write: Callable[[], object], error: Exception | None = None) -> bool:
    """Run one conditional save, update or delete; True if it was applied.

    Raises:
        `error`: the condition failed (with no `error`, the write returns False instead).
    """
    try:
        write()
    except (PutError, UpdateError, DeleteError) as exc:
        if exc.cause_response_code != _CONDITION_FAILED:
            raise
        if error is not None:
            raise error from exc
        return False
    return True

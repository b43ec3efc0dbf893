"""Conditional writes and transactions: a failed condition becomes the caller's named domain
error."""
from __future__ import annotations

from collections.abc import Callable

from pynamodb.exceptions import DeleteError, PutError, TransactWriteError, UpdateError
from pynamodb.transactions import TransactWrite

from chalicelib import aws

_CONDITION_FAILED = "ConditionalCheckFailedException"
_CANCELLED = "TransactionCanceledException"
_CONDITION_CHECK = "ConditionalCheckFailed"


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


def transaction() -> TransactWrite:
    """A TransactWrite on this process's endpoint: its writes all apply, or none do."""
    return TransactWrite(connection=aws.dynamodb_connection())


def transact(build: Callable[[TransactWrite], None]) -> int | None:
    """Run the writes `build` adds in one transaction: None if it was applied, else the
    position (in the order they were added) of the first write whose condition failed."""
    try:
        with transaction() as writes:
            build(writes)
    except TransactWriteError as exc:
        reasons = exc.cancellation_reasons if exc.cause_response_code == _CANCELLED else []
        for position, reason in enumerate(reasons):
            if reason is not None and reason.code == _CONDITION_CHECK:
                return position
        raise
    return None

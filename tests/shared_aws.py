"""One in-process moto for a whole test session: provisioned once, emptied before each test.

Creating moto's backends and every table, bucket and queue costs about a second per test;
emptying them costs a millisecond. Emptying works on moto's in-memory backends directly
(what its own reset does, limited to Glint's data), so tests still get the same resources in
the same empty state. Anything that wipes moto meanwhile (a nested `mock_aws()`, a moto
server's reset in this process) is noticed and answered by provisioning again."""
from __future__ import annotations

from dataclasses import dataclass

from moto import mock_aws
from moto.backends import get_backend
from moto.core import DEFAULT_ACCOUNT_ID
from moto.core.base_backend import BackendDict
from moto.s3.models import FakeKey, s3_backends

from chalicelib import topology
from chalicelib.config import Settings, get_settings
from chalicelib.db.models import bound
from glint_local import provision
from glint_local.provision import Provisioned


@dataclass(frozen=True)
class _Names:
    """The resources provisioning creates for one set of settings."""

    region: str
    tables: frozenset[str]
    buckets: frozenset[str]
    queues: frozenset[str]

    @classmethod
    def of(cls, settings: Settings) -> _Names:
        spec = topology.import_queue(settings)
        return cls(settings.region,
                   frozenset(bound(model).Meta.table_name for model in topology.TABLE_MODELS),
                   frozenset({settings.bucket, *(store.bucket for store in settings.stores)}),
                   frozenset({spec.name, spec.dlq_name}))


class SharedAws:
    """moto's in-process mock, started for each test without losing its data in between."""

    def __init__(self) -> None:
        self._mock = mock_aws()
        self._names: _Names | None = None
        self._resources: Provisioned | None = None

    def start(self) -> Provisioned:
        """Turn the mock on; every Glint resource exists and is empty."""
        self._mock.start(reset=False)
        names = _Names.of(get_settings())
        if self._resources is None or names != self._names or not self._intact(names):
            BackendDict.reset()
            self._resources = provision.provision(get_settings())
            self._names = names
        else:
            self._empty(names)
        return self._resources

    def stop(self) -> None:
        """Turn the mock off, keeping its data for the next test to empty."""
        self._mock.stop(remove_data=False)

    @staticmethod
    def _intact(names: _Names) -> bool:
        tables = get_backend("dynamodb")[DEFAULT_ACCOUNT_ID][names.region].tables
        buckets = s3_backends[DEFAULT_ACCOUNT_ID]["global"].buckets
        queues = get_backend("sqs")[DEFAULT_ACCOUNT_ID][names.region].queues
        return names.tables <= tables.keys() and names.buckets <= buckets.keys() and \
            names.queues <= queues.keys()

    @staticmethod
    def _empty(names: _Names) -> None:
        tables = get_backend("dynamodb")[DEFAULT_ACCOUNT_ID][names.region].tables
        for name in list(tables):
            if name in names.tables:
                tables[name].items.clear()
            else:
                del tables[name]
        buckets = s3_backends[DEFAULT_ACCOUNT_ID]["global"].buckets
        for name, bucket in list(buckets.items()):
            for _, versions in bucket.keys.lists():
                for key in versions:
                    if isinstance(key, FakeKey):  # not a delete marker
                        key.dispose()  # closes the temporary file moto keeps the bytes in
            for upload in bucket.multiparts.values():
                upload.dispose()
            bucket.keys.clear()
            bucket.multiparts.clear()
            if name not in names.buckets:
                del buckets[name]
                s3_backends.bucket_accounts.pop(name, None)
        queues = get_backend("sqs")[DEFAULT_ACCOUNT_ID][names.region].queues
        for name in list(queues):
            if name in names.queues:
                queues[name]._messages = []
                queues[name]._pending_messages = set()
            else:
                del queues[name]

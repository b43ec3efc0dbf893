"""pynamodb models: the table layout. Private to db/ (and read by the provisioners)."""
from __future__ import annotations

from typing import Any

from pynamodb.attributes import (BooleanAttribute, JSONAttribute, ListAttribute, MapAttribute,
                                 NumberAttribute, TTLAttribute, UnicodeAttribute,
                                 UnicodeSetAttribute, VersionAttribute)
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex
from pynamodb.models import Model

from chalicelib.config import get_settings
from chalicelib.db.metadef_models import METADEF_MODELS


class LocationMap(MapAttribute):
    id = UnicodeAttribute()
    store = UnicodeAttribute()
    key = UnicodeAttribute()
    status = UnicodeAttribute()
    # Set on converted variants only.
    disk_format = UnicodeAttribute(null=True)
    checksum = UnicodeAttribute(null=True)
    os_hash_value = UnicodeAttribute(null=True)
    size = NumberAttribute(null=True)


class UploadMap(MapAttribute):
    id = UnicodeAttribute()
    key = UnicodeAttribute()
    size = NumberAttribute()
    sha256 = UnicodeAttribute(null=True)
    multipart_id = UnicodeAttribute(null=True)
    part_size = NumberAttribute(null=True)
    expires_at = UnicodeAttribute()
    awaiting_import = BooleanAttribute(default=False)
    task_id = UnicodeAttribute(null=True)
    reserved_bytes = NumberAttribute(null=True)


class ClaimMap(MapAttribute):
    key = UnicodeAttribute()
    lease_until = NumberAttribute()
    token = UnicodeAttribute(null=True)


class OwnerIndex(GlobalSecondaryIndex):
    """A project's images, newest first. Sparse: deleted images drop out."""

    class Meta:
        index_name = "by-owner"
        projection = AllProjection()

    list_owner = UnicodeAttribute(hash_key=True)
    sort_key = UnicodeAttribute(range_key=True)


class VisibilityIndex(GlobalSecondaryIndex):
    """Public and community images, newest first. Sparse: only those carry `list_visibility`."""

    class Meta:
        index_name = "by-visibility"
        projection = AllProjection()

    list_visibility = UnicodeAttribute(hash_key=True)
    sort_key = UnicodeAttribute(range_key=True)


class AllIndex(GlobalSecondaryIndex):
    """Every live image, newest first: the admin's list. One partition, so it suits catalogs
    of up to millions of images; deleted images drop out (sparse)."""

    class Meta:
        index_name = "all"
        projection = AllProjection()

    list_all = UnicodeAttribute(hash_key=True)
    sort_key = UnicodeAttribute(range_key=True)


class InFlightIndex(GlobalSecondaryIndex):
    """Images mid-upload or mid-import, oldest change first: what the reaper watches.
    Sparse: only `uploading`/`importing` images carry `in_flight`."""

    class Meta:
        index_name = "in-flight"
        projection = AllProjection()

    in_flight = UnicodeAttribute(hash_key=True)
    updated_at = UnicodeAttribute(range_key=True)


class ImageModel(Model):
    """One item per image, keyed by id; `version` gives optimistic locking."""

    class Meta:
        table_name = "unbound"
        settings_field = "images_table"
        billing_mode = "PAY_PER_REQUEST"

    id = UnicodeAttribute(hash_key=True)
    owner = UnicodeAttribute()
    status = UnicodeAttribute()
    name = UnicodeAttribute(null=True)
    visibility = UnicodeAttribute()
    protected = BooleanAttribute(default=False)
    os_hidden = BooleanAttribute(default=False)
    checksum = UnicodeAttribute(null=True)
    os_hash_algo = UnicodeAttribute(null=True)
    os_hash_value = UnicodeAttribute(null=True)
    size = NumberAttribute(null=True)
    virtual_size = NumberAttribute(null=True)
    disk_format = UnicodeAttribute(null=True)
    container_format = UnicodeAttribute(null=True)
    min_disk = NumberAttribute(default=0)
    min_ram = NumberAttribute(default=0)
    tags = UnicodeSetAttribute(null=True)
    properties = MapAttribute(null=True)
    locations = ListAttribute(of=LocationMap, null=True)
    upload = UploadMap(null=True)
    claim = ClaimMap(null=True)
    import_error = UnicodeAttribute(null=True)
    created_at = UnicodeAttribute()
    updated_at = UnicodeAttribute()
    sort_key = UnicodeAttribute()
    list_owner = UnicodeAttribute(null=True)
    list_visibility = UnicodeAttribute(null=True)
    in_flight = UnicodeAttribute(null=True)
    list_all = UnicodeAttribute(null=True)
    expires_at = TTLAttribute(null=True)
    version = VersionAttribute()

    by_owner = OwnerIndex()
    by_visibility = VisibilityIndex()
    in_flight_index = InFlightIndex()
    every = AllIndex()


class MemberIndex(GlobalSecondaryIndex):
    """A project's memberships by status, newest image first ("images shared with me")."""

    class Meta:
        index_name = "by-member"
        projection = AllProjection()

    member_id = UnicodeAttribute(hash_key=True)
    listing = UnicodeAttribute(range_key=True)


class MemberModel(Model):
    """One item per (image, member project); `listing` is `<status>#<image sort key>`."""

    class Meta:
        table_name = "unbound"
        settings_field = "members_table"
        billing_mode = "PAY_PER_REQUEST"

    image_id = UnicodeAttribute(hash_key=True)
    member_id = UnicodeAttribute(range_key=True)
    status = UnicodeAttribute()
    listing = UnicodeAttribute()
    created_at = UnicodeAttribute()
    updated_at = UnicodeAttribute()

    by_member = MemberIndex()


class UsageModel(Model):
    """One item per project: its quota counters (sizes in bytes), changed only by atomic
    ADDs, and the limits an admin set for it (`limit_<quota>`, in the API's units)."""

    class Meta:
        table_name = "unbound"
        settings_field = "usage_table"
        billing_mode = "PAY_PER_REQUEST"

    project_id = UnicodeAttribute(hash_key=True)
    image_count_total = NumberAttribute(null=True)
    image_count_uploading = NumberAttribute(null=True)
    image_size_total = NumberAttribute(null=True)
    image_stage_total = NumberAttribute(null=True)
    limit_image_count_total = NumberAttribute(null=True)
    limit_image_count_uploading = NumberAttribute(null=True)
    limit_image_size_total = NumberAttribute(null=True)
    limit_image_stage_total = NumberAttribute(null=True)


class ImageTasksIndex(GlobalSecondaryIndex):
    """An image's tasks, newest first."""

    class Meta:
        index_name = "by-image"
        projection = AllProjection()

    image_id = UnicodeAttribute(hash_key=True)
    sort_key = UnicodeAttribute(range_key=True)


class AllTasksIndex(GlobalSecondaryIndex):
    """Every task, newest first: the admin's list (tasks expire, so the partition stays small)."""

    class Meta:
        index_name = "all"
        projection = AllProjection()

    list_all = UnicodeAttribute(hash_key=True)
    sort_key = UnicodeAttribute(range_key=True)


class UnfinishedTasksIndex(GlobalSecondaryIndex):
    """Pending and processing tasks, least recently changed first: what the reaper watches.
    Sparse: only unfinished tasks carry `unfinished`."""

    class Meta:
        index_name = "unfinished"
        projection = AllProjection()

    unfinished = UnicodeAttribute(hash_key=True)
    updated_at = UnicodeAttribute(range_key=True)


class TaskModel(Model):
    """One item per task, keyed by id; DynamoDB deletes it after `expires_at` (set when the
    task finishes)."""

    class Meta:
        table_name = "unbound"
        settings_field = "tasks_table"
        billing_mode = "PAY_PER_REQUEST"

    id = UnicodeAttribute(hash_key=True)
    type = UnicodeAttribute()
    status = UnicodeAttribute()
    owner = UnicodeAttribute()
    image_id = UnicodeAttribute()
    user_id = UnicodeAttribute(null=True)
    request_id = UnicodeAttribute(null=True)
    input = JSONAttribute(null=True)
    result = JSONAttribute(null=True)
    message = UnicodeAttribute(null=True)
    created_at = UnicodeAttribute()
    updated_at = UnicodeAttribute()
    sort_key = UnicodeAttribute()
    list_all = UnicodeAttribute()
    unfinished = UnicodeAttribute(null=True)
    expires_at = TTLAttribute(null=True)

    by_image = ImageTasksIndex()
    every = AllTasksIndex()
    unfinished_index = UnfinishedTasksIndex()


class OutboxModel(Model):
    """An event written with the change it reports and removed once published (db.outbox).
    Kept in the tasks table under its own key prefix, so that every role that records tasks
    can record events with no table of their own; it carries none of the tasks' list keys,
    so task queries never see it."""

    class Meta:
        table_name = "unbound"
        settings_field = "tasks_table"
        billing_mode = "PAY_PER_REQUEST"

    id = UnicodeAttribute(hash_key=True)
    name = UnicodeAttribute()
    detail = JSONAttribute()
    unfinished = UnicodeAttribute()
    updated_at = UnicodeAttribute()
    expires_at = TTLAttribute(null=True)

    # The unfinished-tasks index's `outbox` partition: the entries, oldest first.
    pending = UnfinishedTasksIndex()


# OutboxModel shares the tasks table: not a table of its own.
ALL_MODELS: tuple[type[Model], ...] = (ImageModel, MemberModel, UsageModel, TaskModel)
ALL_MODELS += METADEF_MODELS


def image_order_key(created_at: str, image_id: str) -> str:
    """The range key that orders images newest first in every list index (ties by id)."""
    return f"{created_at}#{image_id}"


def bound(model: type[Model]) -> Any:
    """Point the model at this process's table and endpoint (re-binds when settings change)."""
    settings = get_settings()
    meta = model.Meta
    target = (getattr(settings, meta.settings_field), settings.aws_endpoint_url, settings.region)
    if (meta.table_name, meta.host, meta.region) != target:
        meta.table_name, meta.host, meta.region = target
        model._connection = None
    return model

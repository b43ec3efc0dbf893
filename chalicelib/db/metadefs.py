"""Metadefs repository: the catalog in one DynamoDB table (layout in metadef_models.py).

Read costs (items read; never a scan):
- get_namespace: 1 (a get of the header).
- get_contents (namespace show): 1 query over the namespace's partition: 1 + its objects,
  properties, tags and associations.
- list_children (objects / properties / tags / associations of one namespace): 1 query,
  `begins_with` on the sort key: the items of that kind only.
- list_namespaces: 1 query of the sparse by-catalog GSI: every namespace header and nothing
  else. Glance's visibility, filters and its several sort keys are applied in memory. The
  catalog is small by nature (Glance ships 33 namespaces), so a page costs the catalog's
  headers (about 1 RCU per 4 KB of headers), not its contents.
- namespaces_for_resource_types: 1 keys-only query of the by-resource-type GSI per type.
- list_resource_types: 1 query of the RESOURCE_TYPES partition.
"""
from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass
from typing import Any

from pynamodb.exceptions import DoesNotExist, TransactWriteError

from chalicelib.db.metadef_models import MetadefModel
from chalicelib.db.models import bound
from chalicelib.db.writes import conditional, transaction
from chalicelib.domain.errors import Conflict, NotFound
from chalicelib.domain.metadefs import (Association, Contents, MetadefObject, Namespace, Property,
                                        ResourceType, Tag)
from chalicelib.domain.metadefs_policy import not_found_message

_HEADER = "NS"
_CATALOG = "namespaces"
_RESOURCE_TYPES = "RESOURCE_TYPES"
# DynamoDB's limit on the items of one transaction.
_MAX_TRANSACTION_ITEMS = 100
_CANCELLED_BY_CONDITION = "ConditionalCheckFailed"


@dataclass(frozen=True, slots=True)
class Kind:
    """One kind of thing kept inside a namespace's partition."""

    prefix: str
    label: str
    load: Callable[[dict[str, Any]], Any]


OBJECTS = Kind("OBJ#", "object", lambda d: MetadefObject(**{**d, "required": tuple(d["required"])}))
PROPERTIES = Kind("PROP#", "property", lambda d: Property(**d))
TAGS = Kind("TAG#", "tag", lambda d: Tag(**d))
ASSOCIATIONS = Kind("RT#", "resource type association", lambda d: Association(**d))
_KINDS = (OBJECTS, PROPERTIES, TAGS, ASSOCIATIONS)


def get_namespace(name: str) -> Namespace:
    """Read one namespace header.

    Raises:
        NotFound: no such namespace.
    """
    try:
        item = _model().get(_pk(name), _HEADER, consistent_read=True)
    except DoesNotExist as exc:
        raise NotFound(not_found_message(name)) from exc
    return Namespace(**json.loads(item.data))


def get_contents(name: str) -> Contents:
    """A namespace with its objects, properties, tags and associations, in one query.

    Raises:
        NotFound: no such namespace.
    """
    header: Namespace | None = None
    found: dict[str, list[Any]] = {kind.prefix: [] for kind in _KINDS}
    for item in _model().query(_pk(name), consistent_read=True):
        if item.sk == _HEADER:
            header = Namespace(**json.loads(item.data))
            continue
        kind = next(k for k in _KINDS if item.sk.startswith(k.prefix))
        found[kind.prefix].append(kind.load(json.loads(item.data)))
    if header is None:
        raise NotFound(not_found_message(name))
    return Contents(header, tuple(found[PROPERTIES.prefix]), tuple(found[OBJECTS.prefix]),
                    tuple(found[TAGS.prefix]), tuple(found[ASSOCIATIONS.prefix]))


def list_namespaces() -> list[Namespace]:
    """Every namespace header, by name."""
    return [Namespace(**json.loads(item.data))
            for item in _model().by_catalog.query(_CATALOG)]


def namespaces_for_resource_types(resource_types: Iterable[str]) -> set[str]:
    """The names of namespaces associated with any of these resource types."""
    index = _model().by_resource_type
    return {item.pk.removeprefix("NS#") for rt in resource_types for item in index.query(rt)}


def create_namespace(contents: Contents) -> None:
    """Store a new namespace and everything in it, all or nothing.

    Raises:
        Conflict: the name is taken, or the namespace has too many parts for one transaction.
    """
    items = [_header_item(contents.namespace)] + _content_items(contents)
    _require_fits(contents.namespace.namespace, items)
    try:
        with transaction() as write:
            write.save(items[0], condition=MetadefModel.pk.does_not_exist())
            for item in items[1:]:
                write.save(item)
    except TransactWriteError as exc:
        if _cancelled_by_condition(exc, 0):
            raise Conflict(_duplicate_namespace(contents.namespace.namespace)) from exc
        raise


def replace_namespace(old_name: str, namespace: Namespace) -> None:
    """Write a namespace header; a new name moves the whole partition in one transaction.

    Raises:
        NotFound: the namespace is gone.
        Conflict: the new name is taken, or the namespace is too large to rename atomically.
    """
    if old_name == namespace.namespace:
        _put(_header_item(namespace), MetadefModel.pk.exists(), NotFound(not_found_message(old_name)))
        return
    old_items = list(_model().query(_pk(old_name), consistent_read=True))
    if not any(item.sk == _HEADER for item in old_items):
        raise NotFound(not_found_message(old_name))
    moved = [_header_item(namespace)] + [_moved(item, namespace.namespace)
                                         for item in old_items if item.sk != _HEADER]
    _require_fits(old_name, moved + old_items)
    try:
        with transaction() as write:
            write.save(moved[0], condition=MetadefModel.pk.does_not_exist())
            for item in moved[1:]:
                write.save(item)
            for item in old_items:
                write.delete(item, condition=MetadefModel.pk.exists())
    except TransactWriteError as exc:
        if _cancelled_by_condition(exc, 0):
            raise Conflict(_duplicate_namespace(namespace.namespace)) from exc
        if _any_condition(exc):
            raise Conflict(f"Namespace {old_name} changed during the rename; retry.") from exc
        raise


def delete_namespace(name: str) -> None:
    """Delete a namespace's contents, then the namespace (a retry finishes a partial delete)."""
    items = list(_model().query(_pk(name), consistent_read=True))
    with _model().batch_write() as batch:
        for item in sorted(items, key=lambda i: i.sk == _HEADER):
            batch.delete(item)


def list_children(namespace: str, kind: Kind) -> list[Any]:
    """The objects, properties, tags or associations of a namespace, by name."""
    items = _model().query(_pk(namespace), MetadefModel.sk.startswith(kind.prefix),
                           consistent_read=True)
    return [kind.load(json.loads(item.data)) for item in items]


def get_child(namespace: str, kind: Kind, name: str) -> Any:
    """One object, property, tag or association.

    Raises:
        NotFound: the namespace has none by that name.
    """
    try:
        item = _model().get(_pk(namespace), kind.prefix + name, consistent_read=True)
    except DoesNotExist as exc:
        raise NotFound(_missing(namespace, kind, name)) from exc
    return kind.load(json.loads(item.data))


def add_child(namespace: str, kind: Kind, value: Any) -> None:
    """Store a new object, property, tag or association.

    Raises:
        Conflict: the namespace already has one by that name.
    """
    _put(_child_item(namespace, kind, value), MetadefModel.pk.does_not_exist(),
         Conflict(_duplicate(namespace, kind, value.name)))


def add_children(namespace: str, kind: Kind, values: list[Any], replace: bool) -> None:
    """Store several new children at once, all or nothing; `replace` first deletes the others.

    Raises:
        Conflict: one of the names is taken (and `replace` is false), or there are too many.
    """
    new = [_child_item(namespace, kind, value) for value in values]
    names = {item.sk for item in new}
    old = [item for item in _model().query(_pk(namespace), MetadefModel.sk.startswith(kind.prefix))
           if item.sk not in names] if replace else []
    _require_fits(namespace, new + old)
    try:
        with transaction() as write:
            for item in old:
                write.delete(item)
            for item in new:
                write.save(item, condition=None if replace else MetadefModel.pk.does_not_exist())
    except TransactWriteError as exc:
        reasons = exc.cancellation_reasons or []
        taken = [values[i - len(old)].name for i, reason in enumerate(reasons)
                 if reason and reason.code == _CANCELLED_BY_CONDITION and i >= len(old)]
        if not taken:  # throttled or failed for another reason: not the client's conflict
            raise
        raise Conflict(_duplicate(namespace, kind, ", ".join(taken))) from exc


def replace_child(namespace: str, kind: Kind, old_name: str, value: Any) -> None:
    """Overwrite a child; a new name deletes the old item in the same transaction.

    Raises:
        NotFound: there is no child `old_name`.
        Conflict: the new name is taken.
    """
    item = _child_item(namespace, kind, value)
    if old_name == value.name:
        _put(item, MetadefModel.pk.exists(), NotFound(_missing(namespace, kind, old_name)))
        return
    old = _model()(_pk(namespace), kind.prefix + old_name, data="{}")
    try:
        with transaction() as write:
            write.delete(old, condition=MetadefModel.pk.exists())
            write.save(item, condition=MetadefModel.pk.does_not_exist())
    except TransactWriteError as exc:
        if _cancelled_by_condition(exc, 0):
            raise NotFound(_missing(namespace, kind, old_name)) from exc
        if _any_condition(exc):
            raise Conflict(_duplicate(namespace, kind, value.name)) from exc
        raise


def delete_child(namespace: str, kind: Kind, name: str) -> None:
    """Delete one child.

    Raises:
        NotFound: there is no such child.
    """
    item = _model()(_pk(namespace), kind.prefix + name, data="{}")
    conditional(lambda: item.delete(condition=MetadefModel.pk.exists()),
                NotFound(_missing(namespace, kind, name)))


def delete_children(namespace: str, kind: Kind) -> list[Any]:
    """Delete every child of a kind; returns what was deleted."""
    items = list(_model().query(_pk(namespace), MetadefModel.sk.startswith(kind.prefix)))
    with _model().batch_write() as batch:
        for item in items:
            batch.delete(item)
    return [kind.load(json.loads(item.data)) for item in items]


def list_resource_types() -> list[ResourceType]:
    """Every resource type, by name."""
    return [ResourceType(**json.loads(item.data)) for item in _model().query(_RESOURCE_TYPES)]


def ensure_resource_type(resource_type: ResourceType) -> None:
    """Record a resource type unless it is already known (associations create them)."""
    item = _model()(_RESOURCE_TYPES, resource_type.name, data=json.dumps(asdict(resource_type)))
    conditional(lambda: item.save(condition=MetadefModel.pk.does_not_exist()))


def _model() -> Any:
    return bound(MetadefModel)


def _pk(namespace: str) -> str:
    return f"NS#{namespace}"


def _header_item(namespace: Namespace) -> MetadefModel:
    return _model()(_pk(namespace.namespace), _HEADER, data=json.dumps(asdict(namespace)),
                    catalog=_CATALOG)


def _child_item(namespace: str, kind: Kind, value: Any) -> MetadefModel:
    return _model()(_pk(namespace), kind.prefix + value.name, data=json.dumps(asdict(value)),
                    rt_name=value.name if kind is ASSOCIATIONS else None)


def _content_items(contents: Contents) -> list[MetadefModel]:
    name = contents.namespace.namespace
    return [_child_item(name, kind, value)
            for kind, values in ((PROPERTIES, contents.properties), (OBJECTS, contents.objects),
                                 (TAGS, contents.tags), (ASSOCIATIONS, contents.associations))
            for value in values]


def _moved(item: MetadefModel, new_namespace: str) -> MetadefModel:
    return _model()(_pk(new_namespace), item.sk, data=item.data, rt_name=item.rt_name)


def _put(item: MetadefModel, condition: Any, error: Exception) -> None:
    conditional(lambda: item.save(condition=condition), error)


def _require_fits(namespace: str, items: list[Any]) -> None:
    if len(items) > _MAX_TRANSACTION_ITEMS:
        raise Conflict(f"Namespace {namespace}: this change touches {len(items)} items, more "
                       f"than the {_MAX_TRANSACTION_ITEMS} one atomic write allows.")


def _cancelled_by_condition(exc: TransactWriteError, index: int) -> bool:
    reasons = exc.cancellation_reasons or []
    return len(reasons) > index and reasons[index] is not None and \
        reasons[index].code == _CANCELLED_BY_CONDITION


def _any_condition(exc: TransactWriteError) -> bool:
    """Whether a condition (not throttling or a service error) cancelled the transaction."""
    return any(r is not None and r.code == _CANCELLED_BY_CONDITION
               for r in exc.cancellation_reasons or [])


def _duplicate_namespace(name: str) -> str:
    return f"Metadata definition namespace={name} already exists."


def _duplicate(namespace: str, kind: Kind, name: str) -> str:
    return f"A metadata definition {kind.label} with name={name} already exists in namespace={namespace}."


def _missing(namespace: str, kind: Kind, name: str) -> str:
    return f"Metadata definition {kind.label} {name} was not found in namespace={namespace}."
